import { Type, type Static } from '@sinclair/typebox';

import { BARRIER_ACTIONS } from '../../drivers/contract/driver.ts';
import { CommandFailureSchema } from './failures.ts';

/** Body of POST /api/v1/barriers/:id/commands and of an MQTT `<device>/cmd` message. */
export const CommandRequestSchema = Type.Object(
  {
    requestId: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9._:-]+$',
      description: 'idempotency key: the same id never actuates twice',
    }),
    action: Type.Union(
      BARRIER_ACTIONS.map((a) => Type.Literal(a)),
      { description: BARRIER_ACTIONS.join(' | ') },
    ),
    reason: Type.String({ minLength: 1, maxLength: 500, description: 'why, for the audit log' }),
    holdSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    actor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[^\\x00-\\x1f]+$',
        description:
          'who asked, as the sender states it (an operator of the fee system); audited as stated, not authenticated',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CommandRequest = Static<typeof CommandRequestSchema>;

export const CommandStateSchema = Type.Union([
  Type.Literal('accepted'),
  Type.Literal('executing'),
  Type.Literal('confirmed'),
  Type.Literal('failed'),
]);
export type CommandState = Static<typeof CommandStateSchema>;

/**
 * Who a command was for, as its sender stated it. `stated`: the sender's word only (the
 * authenticated sender is `actor`); `hmac-verified`: signed with the village's uplink key.
 */
export const CommandOriginSchema = Type.Object({
  actor: Type.Optional(Type.String({ description: 'the actor the payload names' })),
  requestId: Type.String(),
  trust: Type.Union([Type.Literal('stated'), Type.Literal('hmac-verified')]),
});
export type CommandOrigin = Static<typeof CommandOriginSchema>;

export const CommandRecordSchema = Type.Object({
  id: Type.String(),
  requestId: Type.String(),
  device: Type.String(),
  action: Type.String(),
  actor: Type.String({
    description: 'the authenticated sender: api:<token name>, mqtt:<user>, mqtt:bridge:<uplink>',
  }),
  origin: Type.Optional(CommandOriginSchema),
  reason: Type.String(),
  state: CommandStateSchema,
  failure: Type.Optional(CommandFailureSchema),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  history: Type.Array(
    Type.Object({ state: CommandStateSchema, at: Type.String(), detail: Type.Optional(Type.String()) }),
  ),
});
export type CommandRecord = Static<typeof CommandRecordSchema>;

/** What the broker calls to submit a command received on `<device>/cmd`; the API calls the same. */
export type SubmitCommand = (
  device: string,
  request: CommandRequest,
  actor: string,
  opts?: SubmitOptions,
) => Promise<CommandRecord>;

export interface SubmitOptions {
  /** The intake checked the payload's HMAC with the uplink key. */
  verified?: boolean;
}
