# lambkin/nodejs:24 — a Lambda-style Node.js 24 base image, used as AWS's public.ecr.aws/lambda/nodejs:24 is:
#   FROM lambkin/nodejs:24
#   COPY index.js ${LAMBDA_TASK_ROOT}/
#   CMD ["index.handler"]
# Build from the repository root after `npm run build` (dist/ holds the bundled runtime and emulator).
# The default base is the public Node.js image; with no registry in reach, `npm run images` builds an equivalent
# base from Debian's packages and passes it in with --build-arg BASE_IMAGE=...
ARG BASE_IMAGE=node:24-bookworm-slim
FROM ${BASE_IMAGE}

# Re-declared so the base's name can be recorded: tests measure what our layers add on top of it.
ARG BASE_IMAGE
LABEL org.opencontainers.image.title="lambkin/nodejs" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# Lambda's Node.js is /var/lang/bin/node: the base's own node (/usr/local/bin in node:24 and in the offline base)
# is linked there, so that PATH, scripts and the bootstrap find it where they do on Lambda.
RUN mkdir -p /var/lang/bin /var/lang/lib && ln -s "$(command -v node)" /var/lang/bin/node

# AWS's conventions, which users' Dockerfiles and tools rely on: PATH and LD_LIBRARY_PATH exactly as
# public.ecr.aws/lambda/nodejs:24 sets them (and as nodejs24.x functions see them). NODE_PATH lets require() find
# layers' modules under /opt, as it does on Lambda (where the runtime's bootstrap sets it when unset).
ENV LAMBDA_TASK_ROOT=/var/task \
    AWS_EXECUTION_ENV=AWS_Lambda_nodejs24.x \
    LAMBDA_RUNTIME_DIR=/var/runtime \
    LANG=en_US.UTF-8 \
    TZ=:/etc/localtime \
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
    NODE_PATH=/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task

# Bundled files, no node_modules tree: together well under 5 MB on top of the base. chunks/ holds what the
# runtime loads only when it needs it (the undici client for warm invokes, streaming support).
COPY runtime/bootstrap dist/runtime/index.mjs /var/runtime/
COPY dist/runtime/chunks /var/runtime/chunks
COPY dist/emulator/index.mjs /var/runtime/emulator.mjs
COPY images/lambda-entrypoint.sh /lambda-entrypoint.sh

# Lambda runs function code as sbx_user1051 (uid 993, gid 990), and so does lambkin serve: named here so that
# what looks the user up (whoami, os.userInfo()) finds it, as on Lambda.
RUN echo 'sbx_user1051:x:993:990::/home/sbx_user1051:/sbin/nologin' >> /etc/passwd \
    && echo 'sbx_user1051:x:990:' >> /etc/group

WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
