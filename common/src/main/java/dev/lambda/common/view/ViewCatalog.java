package dev.lambda.common.view;

import java.util.List;
import java.util.Optional;

/** All views of one views file, in file order. */
public record ViewCatalog(List<ViewDefinition> views) implements java.io.Serializable {

    public ViewCatalog {
        views = List.copyOf(views);
    }

    public Optional<ViewDefinition> find(String name) {
        return views.stream().filter(v -> v.name().equals(name)).findFirst();
    }

    /** The views an event of this type feeds. */
    public List<ViewDefinition> viewsFor(String eventType) {
        return views.stream().filter(v -> v.accepts(eventType)).toList();
    }
}
