// piscina picks the export by the `name` run option.
import { Piscina } from 'piscina';
export { inc, spin, echo, seedThread, seedProcess } from './tasks.mjs';
export function echoMove(buf) {
  return Piscina.move(buf);
}
