import { type Config } from '../../config.js'
import { LocalResultStore } from './local-store.js'
import { type ResultStore } from './types.js'

/** The result store the config names: the S3-compatible bucket (EXPORTS_S3_URL) or the local folder (EXPORTS_DIR). */
export async function openResultStore (config: Pick<Config, 'exportsDir' | 'exportsS3Url'> & Partial<Pick<Config, 'exportsS3Endpoint' | 'awsRegion'>>): Promise<ResultStore> {
  if (config.exportsS3Url !== undefined) {
    // Loaded only when asked for: the AWS SDK is large, and most deployments keep results on disk.
    const { createS3Store } = await import('./s3-store.js')
    return createS3Store({ url: config.exportsS3Url, endpoint: config.exportsS3Endpoint, region: config.awsRegion })
  }
  return new LocalResultStore(config.exportsDir)
}
