#!/usr/bin/env bash
# Rebuild static/govuk/ from GOV.UK Frontend 6.3.0 with Arial (no GDS Transport) and our asset
# path. Needs node and npm (build time only; the app never needs them). Run from the project root.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm init -y >/dev/null && npm install --silent sass@1.108.2 govuk-frontend@6.3.0)
cat > "$work/app.scss" <<'SCSS'
@use "govuk-frontend/dist/govuk" as * with (
  $govuk-font-family: (arial, sans-serif),
  $govuk-assets-path: "/static/govuk/assets/"
);
SCSS
"$work/node_modules/.bin/sass" --load-path="$work/node_modules" --style=compressed --no-source-map --quiet-deps \
  "$work/app.scss" static/govuk/govuk-frontend.min.css
sed 's|//# sourceMappingURL=govuk-frontend.min.js.map||' \
  "$work/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js" > static/govuk/govuk-frontend.min.js
echo "static/govuk/ rebuilt from GOV.UK Frontend 6.3.0"
