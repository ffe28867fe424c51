/** A small HTTP client for the platform API, used by the demo loader and the simulator CLI. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export class ApiSession {
  readonly #baseUrl: string;
  readonly #token: string;
  constructor(baseUrl: string, token: string) {
    this.#baseUrl = baseUrl;
    this.#token = token;
  }
  get<T>(path: string): Promise<T> {
    return request<T>(this.#baseUrl, 'GET', path, undefined, this.#token);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return request<T>(this.#baseUrl, 'POST', path, body, this.#token);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return request<T>(this.#baseUrl, 'PUT', path, body, this.#token);
  }
}

export class ApiClient {
  readonly #baseUrl: string;
  constructor(baseUrl: string) {
    this.#baseUrl = baseUrl.replace(/\/$/, '');
  }
  async login(username: string, password: string): Promise<ApiSession> {
    const r = await request<{ token: string }>(this.#baseUrl, 'POST', '/api/auth/login', { username, password });
    return new ApiSession(this.#baseUrl, r.token);
  }
}

async function request<T>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok)
    throw new ApiError(res.status, json?.code ?? 'HTTP_ERROR', `${method} ${path}: ${json?.message ?? res.statusText}`);
  return json as T;
}
