import { parseArgs } from 'node:util'
import { listedProblem } from '../errors.js'
import { openCatalog, type DatasetSummary } from '../source/index.js'
import { existingFolder, parseOrUsage, required } from './args.js'
import { EXIT_OK, say, type CliIo } from './io.js'

const OPTIONS = {
  project: { type: 'string' },
  json: { type: 'boolean' }
} as const

/** Text from a Kiln file, safe for a terminal: control characters (escapes, newlines) become spaces. */
function cell (text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
}

/** The listing as an aligned, plain-text table (one row per dataset split). */
export function datasetTable (datasets: readonly DatasetSummary[]): string {
  const header = ['DATASET ID', 'NAME', 'PROJECT', 'TASK', 'OUTPUT', 'SPLITS (RUNS)']
  const rows = datasets.map((d) => [
    d.id,
    d.name,
    d.project.name,
    d.task.name,
    d.task.structured_output ? 'json' : 'text',
    d.splits.map((s) => `${s.name} (${s.run_count})`).join(', ')
  ].map(cell))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [header, ...rows].map(line).join('\n') + '\n'
}

/** `kiln-export list`: the dataset splits of a project folder, as a table or JSON. */
export async function listCommand (args: string[], io: CliIo): Promise<number> {
  const { values } = parseOrUsage('list', () => parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }))
  const projectArg = required('list', 'project', values.project)
  const projectDir = await existingFolder('list', 'project', projectArg)
  const { datasets, problems } = await openCatalog({ projectsDir: projectDir }).list()
  if (values.json === true) {
    io.stdout.write(JSON.stringify({ datasets, problems: problems.map(listedProblem) }, null, 2) + '\n')
    return EXIT_OK
  }
  // What kept dataset splits out of the table, on stderr so the table stays parseable.
  for (const problem of problems) say(io, `${cell(problem.message)} (${listedProblem(problem).code})`)
  if (datasets.length === 0) {
    say(io, `no dataset splits found under ${projectArg}`)
    return EXIT_OK
  }
  io.stdout.write(datasetTable(datasets))
  return EXIT_OK
}
