package dev.drover.worker.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ParentWatchTest {

    @Test
    void readsTheParentPidEvenWhenTheCommandNameHoldsSpacesAndParentheses() {
        assertEquals(41, ParentWatch.parse("4242 (java) S 41 4242 4242 0 -1 4194560 1 0 0 0"));
        assertEquals(7, ParentWatch.parse("99 (a) b (c)) R 7 99 99 0 -1"));
    }
}
