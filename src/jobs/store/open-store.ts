import { ConfigError, type Config } from '../../config.js'
import { LocalResultStore } from './local-store.js'
import { type ResultStore } from './types.js'

/** The result store the config names: the S3-compatible bucket (EXPORTS_S3_URL) or the local folder (EXPORTS_DIR). */
export async function openResultStore (config: Pick<Config, 'exportsDir' | 'exportsS3Url'>): Promise<ResultStore> {
  if (config.exportsS3Url !== undefined) {
    // S3 HOOK (issue 16, merge): return (await import('./s3-store.js')).createS3Store(config)
    throw new ConfigError('EXPORTS_S3_URL support is not in this build: unset it to keep results in EXPORTS_DIR')
  }
  return new LocalResultStore(config.exportsDir)
}
