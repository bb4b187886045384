# Debian 12 from debootstrap (build.sh imports it as portal-base/debian-rootfs:bookworm), with the
# security updates and the extra certificate authorities build.sh put in ca/ (a TLS-inspecting
# proxy's): the one base every other image in this folder starts from.
FROM portal-base/debian-rootfs:bookworm
RUN printf '%s\n' \
      'deb http://deb.debian.org/debian bookworm main' \
      'deb http://deb.debian.org/debian bookworm-updates main' \
      'deb http://deb.debian.org/debian-security bookworm-security main' > /etc/apt/sources.list \
    && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -y upgrade \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates
ENV LANG=C.UTF-8
CMD ["bash"]
