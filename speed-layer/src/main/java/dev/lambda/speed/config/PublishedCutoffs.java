package dev.lambda.speed.config;

import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.config.ConfigException;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.Optional;

/**
 * What the speed layer's slot width must agree with before it writes a row (DESIGN §4): every
 * cutoff the batch layer has published for these views is a boundary of its slots. Answers count
 * the speed rows of slots at or after the cutoff; a slot that straddles it would hold events
 * ingested after the cutoff under a slot before it, and they would count in neither layer. A
 * published cutoff off the width's boundaries means the batch runs with a narrower width (the
 * batch's must be a multiple of the speed layer's), which the batch's own check cannot see until
 * this layer has written rows.
 */
public final class PublishedCutoffs {

    private PublishedCutoffs() {
    }

    /** @throws ConfigException naming the first view whose published cutoff is inside one of these slots */
    public static void requireBoundaries(ViewStateTable states, ViewCatalog views, IngestSlots slots) {
        for (ViewDefinition view : views.views()) {
            Optional<ViewState> state = states.find(view.name(), view.version()).toCompletableFuture().join();
            if (state.isPresent() && !slots.isBoundary(state.get().cutoff())) {
                Instant cutoff = state.get().cutoff();
                Instant slotEnd = slots.floor(cutoff).plus(slots.width());
                throw new ConfigException("--slot-width " + slots.width() + ": view " + view.name() + " is published with cutoff "
                        + cutoff + ", which is not a boundary of these slots, so the batch layer runs with a narrower --slot-width."
                        + " Events ingested from " + cutoff + " to " + slotEnd + " would fall in a slot before the cutoff and count in"
                        + " neither layer. Run the batch layer with --slot-width " + slots.width() + " (or a multiple) until it has"
                        + " published a cutoff on a boundary, then start the speed layer with this width; or keep its width");
            }
        }
    }
}
