# Stands in for nginx:1.27-alpine: Debian 12's nginx, which reads /etc/nginx/conf.d/*.conf (where
# deploy/compose.yaml mounts deploy/nginx.conf) and logs to the container's output.
FROM portal-base/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
