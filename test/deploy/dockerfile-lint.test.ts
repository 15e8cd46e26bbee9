import { validate } from 'dockerfile-utils'
import { describe, expect, it } from 'vitest'
import { DOCKERFILE_TEXT } from './dockerfile.js'

/*
 * Lint the Dockerfile with dockerfile-utils (the checks of VS Code's Docker extension, pure
 * JavaScript from npm: no Docker engine or hadolint binary needed). `npm run lint:docker` prints
 * the same findings.
 */

type Diagnostic = ReturnType<typeof validate>[number]

/** A finding's message as text (the LSP type allows markup). */
function messageOf (d: Diagnostic): string {
  return typeof d.message === 'string' ? d.message : d.message.value
}

function describeDiagnostic (d: Diagnostic): string {
  return `line ${d.range.start.line + 1}: ${messageOf(d)}`
}

describe('the Dockerfile', () => {
  it('has no lint findings (errors or warnings) from dockerfile-utils', () => {
    const findings = validate(DOCKERFILE_TEXT)
    expect(findings.map(describeDiagnostic)).toEqual([])
  })

  it('would be flagged by the linter when it breaks a rule (the check works)', () => {
    const broken = 'FROM node:22-bookworm-slim\nMAINTAINER someone\nUSER\nCMD ["node", "a.js"]\nCMD ["node", "b.js"]\n'
    const messages = validate(broken).map(messageOf)
    expect(messages).toContain('MAINTAINER has been deprecated')
    expect(messages).toContain('Instruction has no arguments')
    expect(messages.some((m) => m.startsWith('There can only be one CMD instruction'))).toBe(true)
  })
})
