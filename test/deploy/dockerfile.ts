import { readFileSync } from 'node:fs'
import { DockerfileParser, type Instruction } from 'dockerfile-ast'

/** The repository's Dockerfile and docker-compose.yml, as text. */
export const DOCKERFILE_TEXT = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
export const COMPOSE_TEXT = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')

/** One instruction: its keyword and its arguments' values (flags such as --interval left out). */
export interface DockerInstruction {
  readonly keyword: string
  readonly args: readonly string[]
  /** The instruction's whole text, continuation lines included. */
  readonly text: string
}

function toInstruction (instruction: Instruction): DockerInstruction {
  return {
    keyword: instruction.getKeyword(),
    args: instruction.getArguments().map((a) => a.getValue()),
    text: instruction.getTextContent()
  }
}

/** The instructions of the final build stage (what the image runs), parsed by dockerfile-ast. */
export function finalStage (text: string = DOCKERFILE_TEXT): DockerInstruction[] {
  const instructions = DockerfileParser.parse(text).getInstructions().map(toInstruction)
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM')
  return instructions.slice(Math.max(0, lastFrom))
}

/** The variable names an ENV instruction sets (`ENV A=1 B=2`, or the legacy `ENV A 1`). */
export function envNames (instruction: DockerInstruction): string[] {
  if (instruction.args.length > 0 && !(instruction.args[0] ?? '').includes('=')) return instruction.args.slice(0, 1)
  return instruction.args.map((arg) => arg.split('=')[0] ?? arg)
}
