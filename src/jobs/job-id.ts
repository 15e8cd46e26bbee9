import { createHash } from 'node:crypto'
import { exportParams } from '../export/request-params.js'
import { isPreferenceFormat } from '../format/index.js'
import { type DatasetSource } from '../source/types.js'
import { type ExportJobRequest } from './types.js'

/*
 * A job's id is a digest of what its export would produce: the request's export fields (with the
 * API's defaults applied, so leaving out a default is the same request) and the content of its
 * source. The same request over the same content gets the same id, so a retried POST finds the
 * job it already made; a change to the data gives a new job.
 *
 * The source digest:
 * - inline: SHA-256 of the body's dataset_split and task_runs, as parsed (key order as sent);
 * - mounted: the source's contentDigest(): the split file's bytes and each listed run file's size,
 *   modification and change times and inode (no run is read; see src/source/mounted/kiln-projects.ts);
 * - a source without contentDigest: a digest of the runs' content, read in full.
 */

/** JSON with object keys sorted, so the same value always hashes the same. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/** Whether the request carries its data (an inline export). */
export function isInline (request: ExportJobRequest): boolean {
  return request.dataset_split !== undefined || request.task_runs !== undefined
}

/** The digest of what an export of `request` would read from `source`. */
export async function sourceDigest (request: ExportJobRequest, source: DatasetSource, signal?: AbortSignal): Promise<string> {
  if (isInline(request)) return sha256(canonicalJson({ dataset_split: request.dataset_split, task_runs: request.task_runs }))
  const ids = source.split.split_contents[request.split_name] ?? []
  if (source.contentDigest !== undefined) return await source.contentDigest(ids, signal)
  const hash = createHash('sha256').update(canonicalJson(source.split))
  for await (const batch of source.runs(ids, signal)) {
    for (const lookup of batch) hash.update(canonicalJson(lookup))
  }
  return hash.digest('hex')
}

/**
 * The job id: `ex_` and 32 hex digits of SHA-256 over the canonical request and the source digest.
 * The request is read through exportParams(), the export's own defaults, so a default spelt out is
 * the same job; a preference format's pairing (`pair_by`, default `repair`) is part of it.
 */
export function exportJobId (request: ExportJobRequest, digest: string): string {
  const params = exportParams(request)
  const preference = isPreferenceFormat(params.format)
  const canonical = canonicalJson({
    v: 1,
    dataset_id: request.dataset_id,
    split_name: request.split_name,
    format: request.format,
    data_strategy: params.dataStrategy,
    system_message: params.systemMessage,
    thinking_instructions: params.thinkingInstructions,
    include_tool_calls: params.includeToolCalls,
    tools: params.tools,
    // Only where it means something, so the ids of the other formats' jobs did not change.
    ...(preference || params.pairBy !== undefined ? { pair_by: params.pairBy ?? 'repair' } : {}),
    source_digest: digest
  })
  return `ex_${sha256(canonical).slice(0, 32)}`
}
