import { writeFile } from 'node:fs/promises'
import { renderOpenApi } from './openapi-document.js'

/** `npm run openapi`: regenerate openapi/openapi.json from the route schemas. */
const target = new URL('../openapi/openapi.json', import.meta.url)
await writeFile(target, await renderOpenApi())
process.stdout.write(`wrote ${target.pathname}\n`)
