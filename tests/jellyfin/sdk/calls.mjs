// A list of typed calls of the official Jellyfin TypeScript SDK (@jellyfin/sdk) against
// the server address in argv[2], logged in as argv[3] with password argv[4]. argv[5] is
// a JSON array of [api, method, params]: `api` names a module of
// @jellyfin/sdk/lib/utils/api (`items` → getItemsApi), `method` one of its requests,
// `params` its argument object; "$userId" in params is the signed-in user's id, and
// "$N.path" the value at `path` (dots) of the N-th call's answer. Prints one JSON array:
// per call [status, data]; a refused call is [status, ProblemDetails or body].
import { Jellyfin } from '@jellyfin/sdk';

const [address, user, password, callsJson] = process.argv.slice(2);
const jellyfin = new Jellyfin({
  clientInfo: { name: 'reelhouse SDK test', version: '1.0.0' },
  deviceInfo: { name: 'node', id: 'sdk-calls-device' },
});

function pascal(name) {
  return name.split('-').map(p => p[0].toUpperCase() + p.slice(1)).join('');
}

function resolve(value, ctx) {
  if (typeof value === 'string' && value === '$userId') return ctx.userId;
  if (typeof value === 'string' && /^\$\d+\./.test(value)) {
    const [head, ...path] = value.slice(1).split('.');
    return path.reduce((v, k) => v?.[k], ctx.results[Number(head)][1]);
  }
  if (Array.isArray(value)) return value.map(v => resolve(v, ctx));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, ctx)]));
  }
  return value;
}

try {
  const api = jellyfin.createApi(address);
  const auth = await api.authenticateUserByName(user, password);
  const ctx = { userId: auth.data.User.Id, results: [] };
  for (const [name, method, params] of JSON.parse(callsJson)) {
    const module = await import(`@jellyfin/sdk/lib/utils/api/${name}-api.js`);
    const client = module[`get${pascal(name)}Api`](api);
    try {
      const r = await client[method](resolve(params ?? {}, ctx));
      ctx.results.push([r.status, r.data ?? null]);
    } catch (err) {
      if (!err?.response) throw err;
      ctx.results.push([err.response.status, err.response.data ?? null]);
    }
  }
  console.log(JSON.stringify(ctx.results));
} catch (err) {
  console.error(err?.response ? `${err.response.status} ${err.config?.url} ${JSON.stringify(err.response.data)}` : err);
  process.exit(1);
}
