import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { defineError } from '@tessera/core';
import { ApiError } from './errors.js';

/** What a route answers: a status, an optional JSON body, optional headers. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The request went away before its body was read; nothing can be answered. */
export const ClientGoneError = defineError('ClientGoneError', 'CLIENT_GONE');

/** Sends a reply; for HEAD requests the body is left out. */
export function sendReply(res: ServerResponse, reply: Reply, head: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.body !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.body) + '\n');
    headers['content-type'] = JSON_TYPE;
    headers['content-length'] = payload.length;
  }
  res.writeHead(reply.status, headers);
  res.end(head ? undefined : payload);
}

/** The reply for an ApiError: `{"code","message"}` and the X-Platform-Error-Code header. */
export function errorReply(err: ApiError): Reply {
  const headers: Record<string, string> = { 'x-platform-error-code': err.code };
  if (err.code === 'request too large') headers.connection = 'close';
  return { status: err.status, body: err.toBody(), headers };
}

/** The request body, gunzipped when Content-Encoding says gzip; 413 past `limit` bytes either way. */
export function readBody(req: IncomingMessage, limit: number, tooLargeMessage = 'unable to read data: points batch is too large'): Promise<Buffer> {
  const tooLarge = (): ApiError => new ApiError('request too large', tooLargeMessage);
  const encoding = String(req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const gzip = encoding === 'gzip' || encoding === 'x-gzip';
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let rawSize = 0;
    let settled = false;
    const gunzip = gzip ? createGunzip() : undefined;

    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      req.off('data', onRaw);
      req.off('end', onRawEnd);
      req.off('error', onGone);
      req.off('close', onClose);
      if (gunzip !== undefined) {
        gunzip.off('data', onData);
        gunzip.off('end', onEnd);
        gunzip.destroy();
      }
      if (err !== undefined) {
        req.resume();
        reject(err);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) settle(tooLarge());
      else chunks.push(chunk);
    };
    const onRaw = (chunk: Buffer): void => {
      if (gunzip === undefined) return onData(chunk);
      rawSize += chunk.length;
      if (rawSize > limit) settle(tooLarge());
      else gunzip.write(chunk);
    };
    const onEnd = (): void => settle(undefined);
    const onRawEnd = (): void => {
      if (gunzip === undefined) onEnd();
      else gunzip.end();
    };
    const onGone = (): void => settle(new ClientGoneError('client closed the request'));
    const onClose = (): void => {
      if (!req.complete) onGone();
    };

    req.on('data', onRaw);
    req.on('end', onRawEnd);
    req.on('error', onGone);
    req.on('close', onClose);
    if (gunzip !== undefined) {
      gunzip.on('data', onData);
      gunzip.on('end', onEnd);
      gunzip.on('error', (err: Error) => settle(ApiError.invalid(`unable to read data: ${err.message}`)));
    }
  });
}

/** The request body parsed as JSON; 400 when it is not JSON. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit, 'request body is too large');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw ApiError.invalid(`failed to decode request body: ${(err as Error).message}`);
  }
}

/** The request body as JSON checked against a schema; 400 `failed to decode request body: ...` otherwise. */
export async function readJsonAs<T>(req: IncomingMessage, limit: number, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJson(req, limit));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? '' : `${issue.path.join('.')}: `;
  throw ApiError.invalid(`failed to decode request body: ${where}${issue?.message ?? 'invalid body'}`);
}
