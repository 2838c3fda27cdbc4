// A threads.js worker whose task ends its thread, as a crashing native addon or process.exit would.
import { expose } from 'threads/worker';
expose({
  ok: (x) => x + 1,
  exit: () => process.exit(1),
});
