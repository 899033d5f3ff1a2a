# The longhaul worker / client image (production-like stack: docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
ENV NODE_ENV=production LONGHAUL_LOG_FORMAT=json LONGHAUL_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["node", "bin/longhaul.js"]
CMD ["worker"]
