/*
 * One nesting limit for every JSON document the service decodes from outside: request bodies and
 * mounted task_run.kiln files. Everything downstream that walks such data recursively (Ajv, the
 * formatter's fromJsJson and vertexSchema, JSON.stringify, the Python JSON writer, token counting)
 * then never sees more than MAX_JSON_DEPTH levels, so no stack can overflow into a 500. The check
 * itself is iterative: it is safe at any depth (JSON.parse is too).
 */

/**
 * Deepest nesting accepted, counted from the document's top (the top object is level 1). Kiln could
 * not go deeper either: CPython's json recurses, and its recursion limit (1,000 frames) stops it near
 * there (python-json.ts MAX_NESTING_DEPTH, 990, is the same limit for a parsed output).
 */
export const MAX_JSON_DEPTH = 1000

/** Path segments shown in a message; a 100,000-level path is cut after these. */
const SHOWN_SEGMENTS = 8

const isContainer = (value: unknown): value is object => typeof value === 'object' && value !== null

/**
 * The path (keys and indexes from the top) to the first container nested deeper than `limit`
 * levels, or undefined when the whole value is within it.
 */
export function tooDeepAt (value: unknown, limit: number = MAX_JSON_DEPTH): Array<string | number> | undefined {
  return isContainer(value) && exceeds(value, limit) ? firstPathBelow(value, limit) : undefined
}

/** The fast pass, run on every body and run file: no allocation per container but a stack slot. */
function exceeds (top: object, limit: number): boolean {
  const nodes: object[] = [top]
  const depths: number[] = [1]
  for (let node = nodes.pop(); node !== undefined; node = nodes.pop()) {
    const depth = depths.pop() ?? 1
    if (depth > limit) return true
    if (Array.isArray(node)) {
      for (const item of node as unknown[]) {
        if (isContainer(item)) { nodes.push(item); depths.push(depth + 1) }
      }
    } else {
      for (const key in node) {
        const item: unknown = (node as Record<string, unknown>)[key]
        if (isContainer(item)) { nodes.push(item); depths.push(depth + 1) }
      }
    }
  }
  return false
}

/** The slow pass, only for a value known to be too deep: follow the first path down past the limit. */
function firstPathBelow (top: object, limit: number): Array<string | number> {
  const path: Array<string | number> = []
  // Depth-first in document order, keeping the keys of the current branch.
  const branch: Array<{ readonly entries: Array<[string | number, object]>, index: number }> = []
  const enter = (node: object): void => {
    const entries: Array<[string | number, object]> = []
    for (const [key, item] of Object.entries(node)) if (isContainer(item)) entries.push([Array.isArray(node) ? Number(key) : key, item])
    branch.push({ entries, index: 0 })
  }
  enter(top)
  while (branch.length > 0) {
    const level = branch[branch.length - 1] as { entries: Array<[string | number, object]>, index: number }
    const next = level.entries[level.index++]
    if (next === undefined) {
      branch.pop()
      path.pop()
      continue
    }
    path.push(next[0])
    if (branch.length + 1 > limit) return path
    enter(next[1])
  }
  return path
}

/** `body/tools/0/function/parameters/…`: where a path starts, cut to a readable length. */
export function describeJsonPath (root: string, path: ReadonlyArray<string | number>): string {
  const shown = path.slice(0, SHOWN_SEGMENTS).map(String)
  return [root, ...shown].filter((part) => part !== '').join('/') + (path.length > SHOWN_SEGMENTS ? '/…' : '')
}

/** The sentence every refusal uses: where, and the limit. */
export function nestingTooDeepMessage (where: string): string {
  return `${where} nests deeper than ${MAX_JSON_DEPTH} levels, the limit for request bodies and Kiln run files (Kiln's Python json stops there too): flatten it`
}
