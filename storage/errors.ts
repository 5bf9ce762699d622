/** The upload session does not exist (never started, finished, or cancelled). */
export class UploadUnknownError extends Error {
  constructor(readonly uploadId: string) {
    super(`upload ${uploadId} is unknown`);
  }
}
