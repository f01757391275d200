package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/** Reads every page of an asynchronous result without blocking a driver thread. */
final class Pages {

    private Pages() {
    }

    static <T> CompletionStage<List<T>> collect(CompletionStage<AsyncResultSet> first, Function<Row, T> mapper) {
        List<T> into = new ArrayList<>();
        return first.thenCompose(rs -> drain(rs, mapper, into));
    }

    private static <T> CompletionStage<List<T>> drain(AsyncResultSet rs, Function<Row, T> mapper, List<T> into) {
        for (Row row : rs.currentPage()) {
            into.add(mapper.apply(row));
        }
        if (rs.hasMorePages()) {
            return rs.fetchNextPage().thenCompose(next -> drain(next, mapper, into));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(into);
    }
}
