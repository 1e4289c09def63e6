# Production images of the worker and the simulator. One build stage, one small runtime
# stage per binary: `docker build --target worker .` or `--target herokusim`.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/worker ./worker \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/herokusim ./internal/dev/cmd/herokusim

FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /worker
EXPOSE 9090
ENTRYPOINT ["/worker"]

FROM gcr.io/distroless/static-debian12:nonroot AS herokusim
COPY --from=build /out/herokusim /herokusim
EXPOSE 5100
ENTRYPOINT ["/herokusim"]
