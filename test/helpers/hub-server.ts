/**
 * A loopback stand-in for the Hugging Face Hub: the endpoints @huggingface/hub calls, answered from repos held
 * in memory. Only the server is a double; tests drive the real client.
 *
 *   GET  /api/models/<org>/<name>/revision/<rev>     model info (sha, siblings)
 *   POST /api/models/<org>/<name>/paths-info/<rev>   oid, size, lfs { oid, size } per path
 *   GET  /<org>/<name>/resolve/<rev>/<path>          the file; Range `bytes=a-b` gives 206 + Content-Range
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { vi } from 'vitest';

export interface HubFile {
  bytes: Buffer;
  /** Stored with Git LFS (etag = sha256) rather than as a git blob (etag = git sha1). */
  lfs: boolean;
}

export interface HubRepo {
  commit: string;
  /** Branches and tags: name -> commit (the commit itself always resolves). */
  refs: Record<string, string>;
  files: Map<string, HubFile>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

/** The git blob sha1 of some bytes (the oid git and the Hub give a non-LFS file). */
export function gitBlobSha1(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The blob name huggingface_hub gives a file: its etag. */
export function etagOf(file: HubFile): string {
  return file.lfs ? sha256(file.bytes) : gitBlobSha1(file.bytes);
}

/** A repo from a folder's files; `.safetensors` and `.model` files are LFS, as on the Hub. */
export function repoFromDir(dir: string, commit: string, skip: readonly string[] = []): HubRepo {
  const files = new Map<string, HubFile>();
  for (const name of readdirSync(dir).sort()) {
    if (skip.includes(name)) continue;
    files.set(name, { bytes: readFileSync(join(dir, name)), lfs: /\.(safetensors|model|bin)$/.test(name) });
  }
  return { commit, refs: { main: commit }, files };
}

/** A repo from text and byte contents. */
export function repoFromFiles(commit: string, contents: Record<string, string | Buffer>, refs: Record<string, string> = { main: commit }): HubRepo {
  const files = new Map<string, HubFile>();
  for (const [name, content] of Object.entries(contents)) {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    files.set(name, { bytes, lfs: /\.(safetensors|model|bin)$/.test(name) });
  }
  return { commit, refs, files };
}

export interface FakeHub {
  /** `http://127.0.0.1:<port>` */
  url: string;
  repos: Map<string, HubRepo>;
  requests: RecordedRequest[];
  /**
   * The next full or ranged GET of `file` (not the 1-byte probe) sends `bytes` bytes, then the connection is closed.
   */
  cutNext(file: string, bytes: number): void;
  /** The next full or ranged GET of `file` sends `bytes` bytes, then nothing more while the connection stays open. */
  stallNext(file: string, bytes: number): void;
  /** Model info and paths info answer after this many ms. */
  apiDelayMs: number;
  /** Ranged GETs of file content get the whole file with 200, as a server without range support. */
  ignoreRanges: boolean;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

export async function startFakeHub(repos: Record<string, HubRepo>): Promise<FakeHub> {
  const hub: FakeHub = {
    url: '',
    repos: new Map(Object.entries(repos)),
    requests: [],
    ignoreRanges: false,
    cutNext(file, bytes) {
      cut = { file, bytes, stall: false };
    },
    stallNext(file, bytes) {
      cut = { file, bytes, stall: true };
    },
    apiDelayMs: 0,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  let cut: { file: string; bytes: number; stall: boolean } | undefined;

  const commitOf = (repo: HubRepo, rev: string) => (rev === repo.commit ? rev : repo.refs[rev]);

  const modelInfo = (res: ServerResponse, repoId: string, repo: HubRepo, commit: string) => {
    sendJson(res, 200, {
      _id: `id-${repoId}`, id: repoId, sha: commit, private: false, gated: false, downloads: 0, likes: 0,
      lastModified: '2026-01-01T00:00:00.000Z', pipeline_tag: 'image-to-text',
      siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
    });
  };

  const pathsInfo = async (req: IncomingMessage, res: ServerResponse, repo: HubRepo) => {
    const { paths } = JSON.parse(await readBody(req)) as { paths: string[] };
    const out = paths.flatMap((path) => {
      const file = repo.files.get(path);
      if (!file) return [];
      return [{
        type: 'file', path, oid: gitBlobSha1(file.lfs ? Buffer.from(`lfs pointer of ${path}`) : file.bytes), size: file.bytes.length,
        ...(file.lfs ? { lfs: { oid: sha256(file.bytes), size: file.bytes.length, pointerSize: 134 } } : {}),
      }];
    });
    sendJson(res, 200, out);
  };

  const resolveFile = (req: IncomingMessage, res: ServerResponse, path: string, file: HubFile, commit: string) => {
    const size = file.bytes.length;
    const etag = etagOf(file);
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream', 'Accept-Ranges': 'bytes', 'X-Repo-Commit': commit, ETag: `"${file.lfs ? gitBlobSha1(Buffer.from(path)) : etag}"`,
      ...(file.lfs ? { 'X-Linked-Etag': `"${etag}"`, 'X-Linked-Size': String(size) } : {}),
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const probe = req.headers.range === 'bytes=0-0';
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range && (probe || !hub.ignoreRanges)) {
      start = Number(range[1]);
      end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    }
    const body = file.bytes.subarray(start, end + 1);
    res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    if (req.method === 'HEAD') return res.end();
    if (!probe && cut && cut.file === path) {
      const { bytes, stall } = cut;
      cut = undefined;
      res.write(body.subarray(0, bytes), () => {
        if (!stall) res.socket?.end(); // a FIN rather than a reset, which could drop bytes already sent
      });
      return;
    }
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    if (hub.apiDelayMs > 0 && req.url?.startsWith('/api/')) {
      // a client that gave up meanwhile (HF_HUB_ETAG_TIMEOUT) is gone: its request must not be logged into a later test
      setTimeout(() => { if (!req.socket.destroyed) handle(req, res); }, hub.apiDelayMs);
      return;
    }
    handle(req, res);
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    hub.requests.push({
      method: req.method ?? '', url: `${url.pathname}${url.search}`, range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const path = decodeURIComponent(url.pathname);
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|paths-info)\/(.+)$/.exec(path);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const repoId = api?.[1] ?? resolve?.[1];
    const repo = repoId === undefined ? undefined : hub.repos.get(repoId);
    if (!repo) return sendJson(res, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    const commit = commitOf(repo, (api?.[3] ?? resolve?.[2])!);
    if (!commit) return sendJson(res, 404, { error: 'Invalid rev id' }, { 'X-Error-Code': 'RevisionNotFound' });
    if (api?.[2] === 'revision' && req.method === 'GET') return modelInfo(res, repoId!, repo, commit);
    if (api?.[2] === 'paths-info' && req.method === 'POST') return void pathsInfo(req, res, repo);
    if (resolve && (req.method === 'GET' || req.method === 'HEAD')) {
      const file = repo.files.get(resolve[3]!);
      if (!file) return sendJson(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
      return resolveFile(req, res, resolve[3]!, file, commit);
    }
    sendJson(res, 400, { error: `unexpected ${req.method} ${path}` });
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return hub;
}

/**
 * Points the hub client at `hub` with a clean environment: no offline mode, no token, HF_HOME inside `root` (so no
 * token file of the machine is read). Undo with vi.unstubAllEnvs().
 */
export function stubHubEnv(hub: FakeHub, root: string): void {
  vi.stubEnv('HF_ENDPOINT', hub.url);
  vi.stubEnv('HF_HUB_OFFLINE', '');
  vi.stubEnv('HF_TOKEN', '');
  vi.stubEnv('HF_HOME', join(root, 'home'));
}
