/**
 * Models by Hugging Face repo id: resolution in huggingface_hub's cache layout, shared with Python, and
 * resumable, verified downloads with @huggingface/hub.
 */
export {
  resolveModel,
  resolveRepo,
  sourceOptions,
  ModelNotCachedError,
  MODEL_SOURCE_KEYS,
  type DownloadProgress,
  type ModelSourceOptions,
  type ResolveModelOptions,
  type ResolvedModel,
} from './resolve.js';
export { hubCacheDir, hfHome, hubEndpoint, hubToken, isOfflineEnv, DEFAULT_HUB_ENDPOINT, type HubEnv } from './env.js';
export { isRepoId, isCommitHash, repoFolderName, snapshotRepoId } from './repo.js';
export { REQUIRED_FILES, OPTIONAL_FILES, TOKENIZER_FILE_SETS } from './files.js';
