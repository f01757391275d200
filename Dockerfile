# Images for docker-compose.yml (and any container platform). Build from the repository root:
#   docker build --target app   -t lambda-app .     # speed layer, serving layer, launcher (schema init)
#   docker build --target batch -t lambda-batch .   # Spark 4.2 image with the batch jar, submits to a cluster

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -q -B -DskipTests -pl speed-layer,serving-layer,batch-layer,launcher -am package \
 && mkdir /out \
 && cp speed-layer/target/speed-layer-*-all.jar /out/speed-layer.jar \
 && cp serving-layer/target/serving-layer-*-all.jar /out/serving-layer.jar \
 && cp batch-layer/target/batch-layer-*-all.jar /out/batch-layer.jar \
 && cp launcher/target/launcher-*-all.jar /out/launcher.jar

FROM eclipse-temurin:17-jre AS app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home lambda && mkdir /state && chown lambda /state
WORKDIR /app
COPY --from=build /out/speed-layer.jar /out/serving-layer.jar /out/launcher.jar /app/
COPY config/views.yml /app/config/views.yml
ENV LAMBDA_VIEWS=/app/config/views.yml \
    LAMBDA_STATE_DIR=/state
USER lambda
ENTRYPOINT ["java"]
CMD ["-jar", "/app/serving-layer.jar"]

FROM apache/spark:4.2.0-scala2.13-java17-ubuntu AS batch
COPY --from=build /out/batch-layer.jar /opt/lambda/batch-layer.jar
COPY config/views.yml /opt/lambda/views.yml
COPY deploy/batch-schedule.sh /opt/lambda/batch-schedule.sh
USER root
RUN mkdir -p /data && chown spark:spark /data
USER spark
ENV LAMBDA_VIEWS=/opt/lambda/views.yml
ENTRYPOINT ["/opt/lambda/batch-schedule.sh"]
