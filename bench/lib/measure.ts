import { type ProjectMeta } from '../generate-project.js'
import { post, type Transfer } from './client.js'
import { type Format, type Options, type Strategy } from './options.js'
import { startKilnServer, type ServerHandle } from './processes.js'
import { type CeilingResult, type ExportRun } from './results.js'
import { MB, fixed, seconds, secondsSpread } from './stats.js'

/* Timing exports: repeated runs against a server, the ceiling server's runs, a server per scenario. */

export function log (line: string): void {
  process.stderr.write(line + '\n')
}

export function exportBody (meta: ProjectMeta, format: Format, strategy: Strategy): string {
  return JSON.stringify({
    split_name: 'train',
    format,
    data_strategy: strategy,
    system_message: meta.systemMessage,
    thinking_instructions: strategy === 'final_and_intermediate' ? meta.thinkingInstructions : null
  })
}

export function checkTransfer (transfer: Transfer, expectedLines: number, what: string): ExportRun {
  if (transfer.lines !== expectedLines || (transfer.declaredLines !== undefined && transfer.declaredLines !== expectedLines)) {
    throw new Error(`${what}: expected ${expectedLines} lines, got ${transfer.lines} (declared ${String(transfer.declaredLines)})`)
  }
  return { bytes: transfer.bytes, lines: transfer.lines, ttfbMs: transfer.ttfbMs, totalMs: transfer.totalMs }
}

/**
 * Warm-ups, then the measured runs. The body is captured for the ceiling during the first warm-up,
 * or without one during the last run (the first carries the JIT warm-up; the median is the middle one).
 */
export async function repeatExport (url: string, body: string | Buffer, lines: number, warmup: number, runs: number, capture: string, what: string): Promise<ExportRun[]> {
  const measured: ExportRun[] = []
  const captureAt = warmup > 0 ? 0 : warmup + runs - 1
  for (let i = 0; i < warmup + runs; i++) {
    const transfer = await post(url, body, i === captureAt ? { saveTo: capture } : {})
    const run = checkTransfer(transfer, lines, what)
    if (i >= warmup) measured.push(run)
    log(`    ${i < warmup ? 'warm-up' : `run ${i - warmup + 1}/${runs}`}: ${seconds(run.totalMs)} s, ttfb ${seconds(run.ttfbMs)} s, ${fixed(run.bytes / MB)} MB`)
  }
  return measured
}

/** Stream the captured bytes from the ceiling server `runs` times (after `warmup`). */
export async function measureCeiling (ceiling: ServerHandle, capture: string, lines: number, warmup: number, runs: number, uploadBody?: Buffer): Promise<CeilingResult> {
  await post(`${ceiling.origin}/load`, JSON.stringify({ file: capture }))
  const once = async (body: string | Buffer): Promise<number[]> => {
    const times: number[] = []
    for (let i = 0; i < warmup + runs; i++) {
      const transfer = await post(`${ceiling.origin}/stream`, body)
      checkTransfer(transfer, lines, 'ceiling')
      if (i >= warmup) times.push(transfer.totalMs)
    }
    return times
  }
  const totalMs = await once('{}')
  const result: CeilingResult = uploadBody === undefined ? { totalMs } : { totalMs, roundTripMs: await once(uploadBody) }
  log(`    ceiling: ${secondsSpread(result.totalMs)} s${result.roundTripMs === undefined ? '' : `, with the upload ${secondsSpread(result.roundTripMs)} s`}`)
  return result
}

export async function withServer<T> (options: Options, meta: ProjectMeta, work: (server: ServerHandle) => Promise<T>, nodeArgs: readonly string[] = []): Promise<{ value: T, idleRss: number, peakRss: number, cpuSeconds: number }> {
  const server = await startKilnServer({ mode: options.server, projectsDir: meta.projectsDir, nodeArgs: [...options.nodeArgs, ...nodeArgs], env: options.serverEnv })
  try {
    const value = await work(server)
    return { value, idleRss: server.idleRss, peakRss: server.peakRss(), cpuSeconds: server.cpuSeconds() }
  } catch (err) {
    log(server.stderr())
    throw err
  } finally {
    await server.stop()
  }
}
