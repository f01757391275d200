package dev.lambda.common.cassandra;

import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;

/** Reads every page of an asynchronous result without blocking a driver thread. */
final class Pages {

    private Pages() {
    }

    static <T> CompletionStage<List<T>> collect(CompletionStage<AsyncResultSet> first, Function<Row, T> mapper) {
        return collect(first, row -> true, mapper);
    }

    /** The rows {@code keep} accepts, mapped; the others are never mapped. */
    static <T> CompletionStage<List<T>> collect(CompletionStage<AsyncResultSet> first, Predicate<Row> keep, Function<Row, T> mapper) {
        List<T> into = new ArrayList<>();
        return first.thenCompose(rs -> drain(rs, keep, mapper, into));
    }

    private static <T> CompletionStage<List<T>> drain(AsyncResultSet rs, Predicate<Row> keep, Function<Row, T> mapper, List<T> into) {
        for (Row row : rs.currentPage()) {
            if (keep.test(row)) {
                into.add(mapper.apply(row));
            }
        }
        if (rs.hasMorePages()) {
            return rs.fetchNextPage().thenCompose(next -> drain(next, keep, mapper, into));
        }
        return java.util.concurrent.CompletableFuture.completedFuture(into);
    }
}
