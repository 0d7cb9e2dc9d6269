// A SyncPlay play queue through the official Jellyfin TypeScript SDK (@jellyfin/sdk), its
// typed request bodies, against the server address in argv[2], user and password in
// argv[3], argv[4]; the session's /socket (node's WebSocket: run with
// --experimental-websocket) collects what the server says. Prints one JSON object:
// every SyncPlay message in order and the status of each call.
import { Jellyfin } from '@jellyfin/sdk';
import { getItemsApi } from '@jellyfin/sdk/lib/utils/api/items-api.js';
import { getSyncPlayApi } from '@jellyfin/sdk/lib/utils/api/sync-play-api.js';

const [address, user, password] = process.argv.slice(2);
const jellyfin = new Jellyfin({
  clientInfo: { name: 'reelhouse SDK test', version: '1.0.0' },
  deviceInfo: { name: 'node', id: 'sdk-syncplay-device' },
});

const messages = [];
function waitFor(pred, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const until = Date.now() + timeoutMs;
    const poll = () => {
      const found = messages.find(pred);
      if (found) resolve(found);
      else if (Date.now() > until) reject(new Error('no such message: ' + pred + ' in ' + JSON.stringify(messages)));
      else setTimeout(poll, 20);
    };
    poll();
  });
}
const update = (reason, after) => waitFor(m => m.MessageType === 'SyncPlayGroupUpdate' && m.Data.Type === 'PlayQueue'
  && m.Data.Data.Reason === reason && messages.indexOf(m) >= after).then(m => m.Data.Data);
const command = (kind, after) => waitFor(m => m.MessageType === 'SyncPlayCommand' && m.Data.Command === kind
  && messages.indexOf(m) >= after).then(m => m.Data);

try {
  const api = jellyfin.createApi(address);
  const auth = await api.authenticateUserByName(user, password);
  const userId = auth.data.User.Id;
  const ws = new WebSocket(address.replace(/^http/, 'ws') + `/socket?api_key=${api.accessToken}&deviceId=sdk-syncplay-device`);
  ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.MessageType.startsWith('SyncPlay')) messages.push(m); };
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  await new Promise((resolve) => setTimeout(resolve, 300));  // its SyncPlay channel listens
  const found = await getItemsApi(api).getItems({ userId, recursive: true, includeItemTypes: ['Movie', 'Episode'],
                                                    sortBy: ['SortName'] });
  const ids = found.data.Items.map(i => i.Id);
  const sync = getSyncPlayApi(api);
  const calls = [];
  const call = async (name, f) => { try { calls.push([name, (await f()).status]); }
                                    catch (err) { calls.push([name, err?.response?.status ?? String(err)]); } };

  await call('new', () => sync.syncPlayCreateGroup({ newGroupRequestDto: { GroupName: 'sdk' } }));
  let at = messages.length;
  await call('setNewQueue', () => sync.syncPlaySetNewQueue({ playRequestDto: {
    PlayingQueue: ids.slice(0, 3), PlayingItemPosition: 0, StartPositionTicks: 0 } }));
  const first = await update('NewPlaylist', at);
  const pids = first.Playlist.map(e => e.PlaylistItemId);
  await call('ready', () => sync.syncPlayReady({ readyRequestDto: {
    When: new Date().toISOString(), PositionTicks: 0, IsPlaying: false, PlaylistItemId: pids[0] } }));
  await command('Unpause', at);
  at = messages.length;
  await call('queueNext', () => sync.syncPlayQueue({ queueRequestDto: { ItemIds: [ids[3]], Mode: 'QueueNext' } }));
  await update('QueueNext', at);
  await call('next', () => sync.syncPlayNextItem({ nextItemRequestDto: { PlaylistItemId: pids[0] } }));
  await update('NextItem', at);
  await call('repeat', () => sync.syncPlaySetRepeatMode({ setRepeatModeRequestDto: { Mode: 'RepeatOne' } }));
  await update('RepeatMode', at);
  await call('shuffle', () => sync.syncPlaySetShuffleMode({ setShuffleModeRequestDto: { Mode: 'Shuffle' } }));
  await update('ShuffleMode', at);
  await call('move', () => sync.syncPlayMovePlaylistItem({ movePlaylistItemRequestDto: {
    PlaylistItemId: pids[2], NewIndex: 0 } }));
  await update('MoveItem', at);
  await call('set', () => sync.syncPlaySetPlaylistItem({ setPlaylistItemRequestDto: { PlaylistItemId: pids[2] } }));
  await update('SetCurrentItem', at);
  await call('previous', () => sync.syncPlayPreviousItem({ previousItemRequestDto: { PlaylistItemId: pids[2] } }));
  await update('PreviousItem', at);
  await call('remove', () => sync.syncPlayRemoveFromPlaylist({ removeFromPlaylistRequestDto: {
    PlaylistItemIds: [pids[1]] } }));
  await update('RemoveItems', at);
  await call('stop', () => sync.syncPlayStop());
  await command('Stop', at);
  await call('badMode', () => sync.syncPlaySetRepeatMode({ setRepeatModeRequestDto: { Mode: 'Twice' } }));
  await call('leave', () => sync.syncPlayLeaveGroup());
  await waitFor(m => m.MessageType === 'SyncPlayGroupUpdate' && m.Data.Type === 'GroupLeft');
  ws.close();
  console.log(JSON.stringify({ ids, pids, calls, messages }));
} catch (err) {
  console.error(err?.response ? `${err.response.status} ${err.config?.url} ${JSON.stringify(err.response.data)}` : err);
  process.exit(1);
}
