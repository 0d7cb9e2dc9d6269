// Log in, list views and items with the official Jellyfin TypeScript SDK
// (@jellyfin/sdk) against a server address given as argv[2]; user and password in
// argv[3], argv[4]. Prints one JSON object with what the SDK returned; exits 1 on error.
import { Jellyfin } from '@jellyfin/sdk';
import { getItemsApi } from '@jellyfin/sdk/lib/utils/api/items-api.js';
import { getTvShowsApi } from '@jellyfin/sdk/lib/utils/api/tv-shows-api.js';
import { getUserLibraryApi } from '@jellyfin/sdk/lib/utils/api/user-library-api.js';
import { getUserViewsApi } from '@jellyfin/sdk/lib/utils/api/user-views-api.js';
import { getSystemApi } from '@jellyfin/sdk/lib/utils/api/system-api.js';
import { getSearchApi } from '@jellyfin/sdk/lib/utils/api/search-api.js';
import { getMediaInfoApi } from '@jellyfin/sdk/lib/utils/api/media-info-api.js';
import { getFilterApi } from '@jellyfin/sdk/lib/utils/api/filter-api.js';

const [address, user, password] = process.argv.slice(2);
const jellyfin = new Jellyfin({
  clientInfo: { name: 'reelhouse SDK test', version: '1.0.0' },
  deviceInfo: { name: 'node', id: 'sdk-test-device' },
});

try {
  const candidates = await jellyfin.discovery.getRecommendedServerCandidates(address);
  const best = jellyfin.discovery.findBestServer(candidates);
  if (!best) throw new Error(`no usable server at ${address}: ${JSON.stringify(candidates.map(c => c.issues))}`);
  const api = jellyfin.createApi(best.address);
  const auth = await api.authenticateUserByName(user, password);
  const userId = auth.data.User.Id;
  const info = await getSystemApi(api).getSystemInfo();
  const views = await getUserViewsApi(api).getUserViews({ userId });
  const films = views.data.Items.find(v => v.CollectionType === 'movies');
  const shows = views.data.Items.find(v => v.CollectionType === 'tvshows');
  const movies = await getItemsApi(api).getItems({
    userId, parentId: films.Id, recursive: true, includeItemTypes: ['Movie'],
    sortBy: ['SortName'], sortOrder: ['Ascending'], fields: ['MediaSources', 'Overview'], limit: 50,
  });
  const series = await getItemsApi(api).getItems({
    userId, parentId: shows.Id, recursive: true, includeItemTypes: ['Series'],
  });
  const one = await getUserLibraryApi(api).getItem({ itemId: movies.data.Items[0].Id, userId });
  const seasons = await getTvShowsApi(api).getSeasons({ seriesId: series.data.Items[0].Id, userId });
  const episodes = await getTvShowsApi(api).getEpisodes({
    seriesId: series.data.Items[0].Id, seasonId: seasons.data.Items[0].Id, userId,
  });
  const hints = await getSearchApi(api).getSearchHints({ searchTerm: 'bunny', userId });
  const filters = await getFilterApi(api).getQueryFiltersLegacy({ userId, parentId: films.Id });
  const mkv = movies.data.Items.find(m => m.Name === 'Big Buck Bunny');
  const played = await getMediaInfoApi(api).getPostedPlaybackInfo({
    itemId: mkv.Id, userId,
    playbackInfoDto: { DeviceProfile: { DirectPlayProfiles: [
      { Container: 'mp4', Type: 'Video', VideoCodec: 'h264', AudioCodec: 'aac' }] } },
  });
  const source = played.data.MediaSources[0];
  const subtitle = source.MediaStreams.find(s => s.Type === 'Subtitle');
  console.log(JSON.stringify({
    hints: hints.data.SearchHints.map(h => [h.Name, h.Type, h.Id === mkv.Id]),
    years: filters.data.Years,
    playback: [source.SupportsDirectPlay, source.TranscodingSubProtocol, source.TranscodingUrl.includes('/master.m3u8?'),
               subtitle.DeliveryMethod, subtitle.IsTextSubtitleStream],
    server: { address: best.address, score: best.score, name: best.systemInfo?.ServerName,
              version: best.systemInfo?.Version, product: best.systemInfo?.ProductName },
    userId, serverId: auth.data.ServerId, infoId: info.data.Id,
    views: views.data.Items.map(v => [v.Name, v.CollectionType]),
    movies: movies.data.Items.map(m => [m.Name, m.ProductionYear, m.MediaSources?.[0]?.Size]),
    total: movies.data.TotalRecordCount,
    series: series.data.Items.map(s => s.Name),
    item: [one.data.Name, one.data.Type, one.data.MediaSources.length],
    seasons: seasons.data.Items.map(s => s.IndexNumber),
    episodes: episodes.data.Items.map(e => [e.ParentIndexNumber, e.IndexNumber]),
  }));
} catch (err) {
  console.error(err?.response ? `${err.response.status} ${err.config?.url} ${JSON.stringify(err.response.data)}` : err);
  process.exit(1);
}
