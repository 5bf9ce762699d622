# Berth registry image: the compiled build on Node 20, running `berth serve`.
FROM node:20-bookworm-slim AS build
# node-gyp builds the native addons (native/: sendfile, splice, aligned memory) during npm ci.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The web interface's pages, served as shipped (registry/ui/assets.ts finds them beside dist/).
COPY --from=build /app/ui ./ui
COPY --from=build /app/build/Release/sendfile.node /app/build/Release/splice.node /app/build/Release/aligned-memory.node ./build/Release/
COPY package.json ./
USER node
EXPOSE 5000
# V8's first old-generation limit and young-generation size as workers get them (registry/cluster.ts), for one-process serving too.
ENTRYPOINT ["node", "--initial-old-space-size=64", "--max-semi-space-size=1", "dist/cli/main.js"]
CMD ["serve", "--listen", "0.0.0.0:5000", "--storage", "/var/lib/berth"]
