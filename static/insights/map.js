/* The "online base map" switch of /insights/map/: Leaflet (vendored in static/vendor/leaflet,
   loaded only when asked) with the tile server in data-tiles, and the same GeoJSON layers as the
   SVG. Without the network the tiles fail and the boundaries still show; without this script the
   SVG map works on its own. */
(function () {
  "use strict";
  var fig = document.getElementById("khm-map");
  var button = document.getElementById("basemap-toggle");
  if (!fig || !button || !fig.dataset.tiles) return;
  var box = document.getElementById("basemap");
  var svg = document.getElementById("map-svg");
  var offline = document.getElementById("basemap-offline");
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var map = null;
  var loading = null;
  button.hidden = false;

  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { el.setAttribute(k, attrs[k]); });
      el.onload = resolve;
      el.onerror = reject;
      document.head.appendChild(el);
    });
  }

  function leaflet() {
    if (window.L) return Promise.resolve();
    if (!loading) {
      loading = Promise.all([
        load("link", { rel: "stylesheet", href: fig.dataset.leafletCss }),
        load("script", { src: fig.dataset.leafletJs }),
      ]);
    }
    return loading;
  }

  function json(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  function build() {
    var L = window.L;
    map = L.map(box, { zoomSnap: 0.25 });
    var tiles = L.tileLayer(fig.dataset.tiles, { maxZoom: 18, attribution: fig.dataset.attribution || "" });
    var failed = false;
    tiles.on("tileerror", function () {
      if (!failed) { failed = true; offline.hidden = false; }
    });
    tiles.addTo(map);
    json(fig.dataset.areasUrl).then(function (fc) {
      var layer = L.geoJSON(fc, {
        style: function (f) {
          return { color: "#4d4d4d", weight: 1, fillColor: f.properties.fill, fillOpacity: 0.7 };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(((english && p.name_en) || p.name_th) + ": " + p.text, { sticky: true });
        },
      }).addTo(map);
      if (layer.getLayers().length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
      if (fig.dataset.pointsUrl) return json(fig.dataset.pointsUrl);
      return null;
    }).then(function (points) {
      if (!points) return;
      var dots = L.canvas(); // thousands of points: one canvas, not one SVG element each
      L.geoJSON(points, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            renderer: dots, radius: 3, weight: 1, color: "#fff", fillColor: "#1a1a1a", fillOpacity: 0.9,
          });
        },
        onEachFeature: function (f, l) {
          l.bindTooltip(f.properties.code + " · " + (f.properties.village_name || f.properties.village));
        },
      }).addTo(map);
    }).catch(function () { offline.hidden = false; });
  }

  function show(on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");
    box.hidden = !on;
    if (svg) svg.style.display = on ? "none" : "";
    if (on && map) map.invalidateSize();
  }

  button.addEventListener("click", function () {
    if (button.getAttribute("aria-pressed") === "true") { show(false); return; }
    leaflet().then(function () {
      show(true);
      if (!map) build();
    }).catch(function () { offline.hidden = false; });
  });
})();
