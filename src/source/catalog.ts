import { KilnProjects } from './mounted/kiln-projects.js'
import { type ProjectsCatalog } from './types.js'

/*
 * The one place the catalogue of Kiln projects is built, for the service (src/service.ts) and the
 * CLI (list, export, validate): a new kind of source is chosen here.
 */

/** Where the projects are and how large their files may be; a Config has these fields. */
export interface CatalogOptions {
  /** KILN_PROJECTS_DIR, or the CLI's --project. */
  readonly projectsDir: string
  /** MAX_KILN_FILE_BYTES: largest project.kiln, task.kiln or dataset_split.kiln; the default when absent. */
  readonly maxKilnFileBytes?: number
  /** MAX_RUN_FILE_BYTES: largest task_run.kiln; the default when absent. */
  readonly maxRunFileBytes?: number
}

/**
 * The catalogue of the Kiln projects under `projectsDir`. The CLI gives no limits (it keeps the
 * defaults, whatever MAX_KILN_FILE_BYTES and MAX_RUN_FILE_BYTES say); the service gives its Config.
 */
export function openCatalog (options: CatalogOptions): ProjectsCatalog {
  return new KilnProjects(options.projectsDir, { maxFileBytes: options.maxKilnFileBytes, maxRunFileBytes: options.maxRunFileBytes })
}
