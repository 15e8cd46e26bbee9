import { type ExportRequestFields } from '../export/request-params.js'
import { type InlineParts } from '../http/resolve-source.js'
import { type ErrorWithReport } from '../http/schemas/error-response.js'
import { type ResultManifest } from './store/types.js'

/*
 * Export jobs: the export route's work, run in the background and written to a result store
 * (src/jobs/store/). Two engines behind one interface (JobEngine): in process (no REDIS_URL; jobs
 * in memory, results on local disk) and BullMQ (REDIS_URL; workers in any number of processes).
 */

/** The body of `POST /exports`: an export request plus the dataset split id. */
export interface ExportJobRequest extends ExportRequestFields, InlineParts {
  readonly dataset_id: string
  readonly split_name: string
}

/** Where a job is. `queued` also covers a job waiting to be retried after an I/O failure. */
export type ExportJobState = 'queued' | 'checking' | 'writing' | 'done' | 'failed' | 'cancelled'

export const EXPORT_JOB_STATES: readonly ExportJobState[] = ['queued', 'checking', 'writing', 'done', 'failed', 'cancelled']

/** How far a job got: runs checked (the check pass), then lines and bytes written. */
export interface ExportJobProgress {
  readonly runs_checked: number
  readonly runs_total: number
  readonly lines_written: number
  readonly bytes_written: number
}

/** What an engine knows of one job. */
export interface JobStatus {
  readonly id: string
  readonly state: ExportJobState
  readonly dataset_id: string
  readonly split_name: string
  readonly format: string
  readonly created_at: string
  /** Tries started (a retry after an I/O failure, or a redo after a worker died, adds one). */
  readonly attempts: number
  readonly progress: ExportJobProgress
  /** `failed`: the JSON error body the export route would have answered. */
  readonly error?: ErrorWithReport
  /** `done`: the result's manifest. */
  readonly manifest?: ResultManifest
}

/** What a job carries from the POST to whichever worker runs it. */
export interface JobInput {
  readonly id: string
  readonly request: ExportJobRequest
  readonly source_digest: string
  readonly created_at: string
}

/** A log line of the jobs: level, fields, constant message. */
export type JobLog = (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void

/** How a running job reports. */
export interface JobReporter {
  phase (state: 'checking' | 'writing'): void
  progress (progress: ExportJobProgress): void
}

/** The queue behind the jobs API (in process, or BullMQ). */
export interface JobEngine {
  readonly kind: 'in-process' | 'bullmq'
  /** Enqueue a job unless one with this id is queued, running or done; answers its status. */
  submit (input: JobInput): Promise<{ status: JobStatus, created: boolean }>
  /** The job's status, or undefined when the engine does not know it (see the store). */
  status (id: string): Promise<JobStatus | undefined>
  /** Cancel a queued or running job: answers its status afterwards, undefined when unknown. */
  cancel (id: string): Promise<JobStatus | undefined>
  /** Forget a finished job (its result is deleted by the caller). */
  forget (id: string): Promise<void>
  /** Start taking jobs in this process (workers); the in-process engine always runs them. */
  startWorkers? (): Promise<void>
  /** Stop: running jobs finish within the grace, or are handed back (BullMQ) or lost (in process). */
  close (): Promise<void>
}
