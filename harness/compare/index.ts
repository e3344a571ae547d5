// The compare module's public surface.
export { compareRuns, type CellComparison, type ComparisonResult, type CompareOptions, type Verdict } from './compare.js';
export { compareManifests, manifestDifferences, type ManifestDifference } from './manifest-diff.js';
export { defaultThresholds, gateFor, parseThresholds, type Thresholds } from './thresholds.js';
export { compareFormats, renderJson, renderMarkdown, renderText, type CompareFormat } from './render.js';
