import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'

/** The OpenAPI document exactly as the running app serves it, as pretty JSON with a final newline. */
export async function renderOpenApi (): Promise<string> {
  // The document does not depend on the environment: build it from the defaults.
  const app = await buildApp(loadConfig({}))
  await app.ready()
  const text = JSON.stringify(app.swagger(), null, 2) + '\n'
  await app.close()
  return text
}
