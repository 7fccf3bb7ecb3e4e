# syntax=docker/dockerfile:1
# Global arguments feed the FROM lines below.
ARG REG=@REG@
ARG TAG=1

# the build stage
FROM ${REG}/base:${TAG} AS build
COPY hello.txt /src/hello.txt   

FROM   $REG/tools:2   AS   tools   
# a stale pin: left alone by pin, moved by pin --update
FROM --platform=$BUILDPLATFORM ${REG}/base:1@@OLD@ AS pinned
FROM build AS test
FROM scratch AS empty
FROM \
  ${REG}/base:${TAG}
COPY --from=tools /v2 /x
