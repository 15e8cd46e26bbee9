/*
 * Sources: where the task runs of a dataset split come from. What the rest of the service imports
 * from here: the contract (types.ts, with how to add a source), openCatalog() for the Kiln projects
 * and inlineSource() for a request body. The Kiln record decoding that every source shares is its
 * own public module, ./kiln/index.ts; the mounted folder's machinery is ./mounted/.
 */

export { openCatalog, type CatalogOptions } from './catalog.js'
export { inlineSource } from './inline.js'
export { ProjectProblemError } from './project-problem.js'
export { DatasetSummarySchema, SplitSummarySchema, datasetSummary, type DatasetSummary, type SplitSummary } from './summary.js'
export type {
  DatasetCatalog,
  DatasetListing,
  DatasetResolver,
  DatasetSource,
  ProjectProblem,
  ProjectProblemReason,
  ProjectsCatalog,
  RunLookup
} from './types.js'
