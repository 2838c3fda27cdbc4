// Minify one JS module with terser, as terser-webpack-plugin does in each of its jest-worker children.
import { minify as terserMinify } from 'terser';

/** @param {string} code */
export async function minify(code) {
  const out = await terserMinify(code, { module: true, compress: { passes: 1 }, mangle: true, sourceMap: false });
  return out.code;
}
