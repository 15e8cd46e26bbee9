import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { kilnRun, kilnSplit, type RunOptions } from './kiln-data.js'

/** A throwaway Kiln project on disk, in Kiln's layout (spec section 7), removed after the test. */
export interface TempProject {
  /** The folder to mount (holds project.kiln, or project folders when `nested`). */
  readonly root: string
  readonly projectDir: string
  readonly taskDir: string
  writeRun (id: string, options?: RunOptions): Promise<string>
  writeSplit (id: string, contents: Record<string, string[]>, name?: string): Promise<string>
  runFile (id: string): string
}

/** Kiln writes pydantic's `model_dump_json(indent=2)`: 2-space indent, no trailing newline. */
async function writeKiln (path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true })
  await writeFile(path, JSON.stringify(value, null, 2))
}

/**
 * Write a project. `root`: add it, nested, to the folder of another project made by this helper
 * (that one removes it); otherwise a new temp folder is made.
 */
export async function makeKilnProject (options: { nested?: boolean, name?: string, root?: string } = {}): Promise<TempProject> {
  const root = options.root ?? await mkdtemp(join(tmpdir(), 'kiln-export-test-'))
  if (options.root === undefined) onTestFinished(async () => { await rm(root, { recursive: true, force: true }) })
  const name = options.name ?? 'Test Project'
  const projectDir = options.nested === true || options.root !== undefined ? join(root, name) : root
  await writeKiln(join(projectDir, 'project.kiln'), { v: 1, id: '111111111111', name, model_type: 'project' })
  const taskDir = join(projectDir, 'tasks', '222222222222 - Test Task')
  await writeKiln(join(taskDir, 'task.kiln'), {
    v: 1, id: '222222222222', name: 'Test Task', instruction: 'Do it.', output_json_schema: null, model_type: 'task'
  })
  const project: TempProject = {
    root,
    projectDir,
    taskDir,
    runFile: (id) => join(taskDir, 'runs', id, 'task_run.kiln'),
    async writeRun (id, runOptions) {
      const file = project.runFile(id)
      await writeKiln(file, kilnRun(id, runOptions))
      return file
    },
    async writeSplit (id, contents, splitName = 'Test split') {
      const file = join(taskDir, 'dataset_splits', `${id} - ${splitName}`, 'dataset_split.kiln')
      await writeKiln(file, kilnSplit(id, contents, splitName))
      return file
    }
  }
  return project
}
