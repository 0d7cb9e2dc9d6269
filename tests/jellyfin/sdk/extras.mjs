// Genres, people, studios, display preferences, a SyncPlay group made and left, and the
// switched-off features (Quick Connect, playlists) through the official Jellyfin TypeScript SDK
// (@jellyfin/sdk) against the server address in argv[2], user and password in argv[3],
// argv[4]. Prints one JSON object; a refused call is recorded as its HTTP status.
import { Jellyfin } from '@jellyfin/sdk';
import { getDisplayPreferencesApi } from '@jellyfin/sdk/lib/utils/api/display-preferences-api.js';
import { getGenresApi } from '@jellyfin/sdk/lib/utils/api/genres-api.js';
import { getItemsApi } from '@jellyfin/sdk/lib/utils/api/items-api.js';
import { getPersonsApi } from '@jellyfin/sdk/lib/utils/api/persons-api.js';
import { getPlaylistsApi } from '@jellyfin/sdk/lib/utils/api/playlists-api.js';
import { getQuickConnectApi } from '@jellyfin/sdk/lib/utils/api/quick-connect-api.js';
import { getStudiosApi } from '@jellyfin/sdk/lib/utils/api/studios-api.js';
import { getSyncPlayApi } from '@jellyfin/sdk/lib/utils/api/sync-play-api.js';

const [address, user, password] = process.argv.slice(2);
const jellyfin = new Jellyfin({
  clientInfo: { name: 'reelhouse SDK test', version: '1.0.0' },
  deviceInfo: { name: 'node', id: 'sdk-extras-device' },
});

async function status(call) {
  try {
    const r = await call();
    return [r.status, r.data ?? null];
  } catch (err) {
    if (!err?.response) throw err;
    return [err.response.status, err.response.data?.detail ?? null];
  }
}

try {
  const api = jellyfin.createApi(address);
  const auth = await api.authenticateUserByName(user, password);
  const userId = auth.data.User.Id;
  const genres = await getGenresApi(api).getGenres({ userId, fields: ['ItemCounts'], sortOrder: ['Descending'] });
  const drama = await getGenresApi(api).getGenre({ genreName: 'drama', userId });
  const byGenre = await getItemsApi(api).getItems({ userId, recursive: true, genreIds: [drama.data.Id] });
  const persons = await getPersonsApi(api).getPersons({ userId, limit: 20 });
  const studios = await getStudiosApi(api).getStudios({ userId, limit: 20 });
  const prefs = getDisplayPreferencesApi(api);
  const before = await prefs.getDisplayPreferences({ displayPreferencesId: 'films', client: 'emby', userId });
  await prefs.updateDisplayPreferences({
    displayPreferencesId: 'films', client: 'emby', userId,
    displayPreferencesDto: { ...before.data, SortBy: 'DateCreated,SortName', SortOrder: 'Descending',
                             ViewType: 'Poster', CustomPrefs: { 'landing-films': 'favorites' } },
  });
  const after = await prefs.getDisplayPreferences({ displayPreferencesId: 'films', client: 'emby', userId });
  const otherClient = await prefs.getDisplayPreferences({ displayPreferencesId: 'films', client: 'Kodi', userId });
  const qc = getQuickConnectApi(api);
  const sync = getSyncPlayApi(api);
  const playlists = getPlaylistsApi(api);
  console.log(JSON.stringify({
    genres: genres.data.Items.map(g => [g.Name, g.Type, g.MovieCount, g.SeriesCount]),
    total: genres.data.TotalRecordCount,
    drama: [drama.data.Name, drama.data.Type],
    byGenre: byGenre.data.Items.map(i => i.Name),
    persons: persons.data.TotalRecordCount,
    studios: studios.data.TotalRecordCount,
    prefs: [before.data.SortBy, after.data.SortBy, after.data.SortOrder, after.data.ViewType,
            after.data.CustomPrefs, otherClient.data.SortBy],
    quickConnect: [await status(() => qc.getQuickConnectEnabled()),
                   await status(() => qc.initiateQuickConnect()),
                   await status(() => qc.getQuickConnectState({ secret: 'abc' })),
                   await status(() => qc.authorizeQuickConnect({ code: '123456', userId }))],
    syncPlay: [await status(() => sync.syncPlayGetGroups()),
               await status(async () => {
                 const r = await sync.syncPlayCreateGroup({ newGroupRequestDto: { GroupName: 'x' } });
                 return { status: r.status, data: [r.data.GroupName, r.data.State, r.data.Participants] };
               }),
               await status(async () => ({ status: 200, data: (await sync.syncPlayGetGroups()).data.length })),
               await status(() => sync.syncPlayLeaveGroup()),
               await status(() => sync.syncPlayPause())],
    playlists: [await status(() => playlists.createPlaylist({ createPlaylistDto: { Name: 'p', UserId: userId } })),
                await status(() => playlists.getPlaylistItems({ playlistId: drama.data.Id, userId }))],
  }));
} catch (err) {
  console.error(err?.response ? `${err.response.status} ${err.config?.url} ${JSON.stringify(err.response.data)}` : err);
  process.exit(1);
}
