/**
 * Imports every module named on the command line, then reports (as one JSON line) what
 * the imports left behind: process listeners, active handles, output. A product
 * module must leave nothing: importing a profile loader must not start a timer,
 * install an exit handler or open a socket.
 */
const files = process.argv.slice(2);
const before = {
  exit: process.listenerCount('exit'),
  sigint: process.listenerCount('SIGINT'),
  sigterm: process.listenerCount('SIGTERM'),
  resources: process.getActiveResourcesInfo().length,
};
const failed: string[] = [];
for (const f of files) {
  try {
    await import(f);
  } catch (err) {
    failed.push(`${f}: ${(err as Error).message}`);
  }
}
// Give anything an import scheduled (a timer, a listen) the chance to show itself.
await new Promise((r) => setImmediate(r));
const after = {
  exit: process.listenerCount('exit'),
  sigint: process.listenerCount('SIGINT'),
  sigterm: process.listenerCount('SIGTERM'),
  resources: process.getActiveResourcesInfo().length,
};
console.log(JSON.stringify({ before, after, resources: process.getActiveResourcesInfo(), failed }));
