export { splitLines, type SplitLinesOptions } from './splitLines.ts';
export { parseNdjson, stringifyNdjson, type ParseNdjsonOptions } from './ndjson.ts';
export { mapStream, type MappingPool } from './mapStream.ts';
export { mapSettled, type Settled, type MapSettledOptions } from './mapSettled.ts';
export { pipeThroughOperator, type PipeThroughOperatorOptions } from './pipeThroughOperator.ts';
