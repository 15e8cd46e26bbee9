/** The number of JSONL lines in a chunk of UTF-8 bytes: its `\n` bytes. */
export function countLines (bytes: Uint8Array): number {
  let lines = 0
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) lines++
  return lines
}
