import { buildApp } from '../src/app.js'

/** The OpenAPI document exactly as the running app serves it, as pretty JSON with a final newline. */
export async function renderOpenApi (): Promise<string> {
  const app = await buildApp({ bodyLimit: 1024 * 1024 })
  await app.ready()
  const text = JSON.stringify(app.swagger(), null, 2) + '\n'
  await app.close()
  return text
}
