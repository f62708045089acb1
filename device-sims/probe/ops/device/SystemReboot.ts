import type { Operation } from '../types.ts';

/** Answers first, then goes down for a moment like a real camera. */
export const SystemReboot: Operation = {
  access: 'user',
  handle: ({ cam }) => {
    setTimeout(() => cam.reboot(), 100).unref();
    return '<tds:SystemRebootResponse><tds:Message>Rebooting in 1 second</tds:Message></tds:SystemRebootResponse>';
  },
};
