# Stands in for redis:7: Debian 12's Redis 7.0, run as the user redis in /data, reachable from the
# other containers (protected mode off, as in the official image).
FROM portal-base/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
WORKDIR /data
COPY redis-entrypoint.sh /usr/local/bin/redis-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/redis-entrypoint.sh"]
EXPOSE 6379
CMD ["redis-server"]
