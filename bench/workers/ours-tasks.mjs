// rxjs-pools' module task for workload 4b: returns the buffer with transfer(), so it moves back
// instead of being copied (imports the pools alone, without rxjs, as a lean worker would).
import { transfer } from '../../dist/pools/index.js';

export function echoMove(buf) {
  return transfer(buf, [buf]);
}
