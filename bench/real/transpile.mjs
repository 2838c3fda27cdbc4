// Transpile one TypeScript file alone (no type check), as ts-loader's transpileOnly or tsx would.
import ts from 'typescript';

const compilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: false };

/** @param {string} source */
export function transpile(source) {
  return ts.transpileModule(source, { compilerOptions, reportDiagnostics: false }).outputText;
}
