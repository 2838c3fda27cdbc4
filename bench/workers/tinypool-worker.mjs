// tinypool picks the export by the `name` run option (both runtimes).
import Tinypool from 'tinypool';
export { inc, spin, echo, seedThread, seedProcess } from './tasks.mjs';
export function echoMove(buf) {
  return Tinypool.move(buf);
}
