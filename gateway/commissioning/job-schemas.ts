import { Type, type TSchema } from '@sinclair/typebox';

/** A job as GET …/jobs/:id answers it, for a given kind of result. */
export function jobSchema(kind: string, result: TSchema) {
  return Type.Object({
    id: Type.String(),
    kind: Type.String({ description: kind }),
    state: Type.Union([Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
    progress: Type.Object({ done: Type.Integer(), total: Type.Integer(), found: Type.Integer() }),
    startedAt: Type.String(),
    finishedAt: Type.Optional(Type.String()),
    result: Type.Optional(result),
    error: Type.Optional(Type.String()),
  });
}

/** A unit that answered a Modbus sweep. */
export const ScanHitSchema = Type.Object({
  unit: Type.Integer({ minimum: 1, maximum: 247 }),
  profiles: Type.Array(Type.String(), {
    description: 'profiles whose signature the unit fits, best first; empty: none does',
  }),
  detail: Type.Optional(Type.String({ description: 'what was seen when no profile fits' })),
  info: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description:
        "what the controller says about itself (firmware, serial), as its profile's deviceInfo reads it",
    }),
  ),
  device: Type.Optional(
    Type.Object(
      {
        kind: Type.Literal('barrier'),
        driver: Type.String(),
        bus: Type.String(),
        unit: Type.Integer(),
        profile: Type.String(),
      },
      { description: 'the definition to add it by: POST …/devices with an id added' },
    ),
  ),
});

export const ScanJobSchema = jobSchema(
  'scan-modbus',
  Type.Array(ScanHitSchema, { description: 'once done' }),
);
