# The C2M platform (services + portals) in one image; the ledger runs embedded
# unless LEDGER=fabric points it at a Fabric network.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json biome.json ./
COPY shared/package.json shared/
COPY identity/package.json identity/
COPY chaincode/package.json chaincode/
COPY network/package.json network/
COPY services/package.json services/
COPY portals/package.json portals/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
VOLUME /data
EXPOSE 3000
CMD ["node", "services/dist/src/server.js"]
