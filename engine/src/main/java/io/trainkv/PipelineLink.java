package io.trainkv;

import io.trainkv.compaction.Compactor;

/**
 * Lets background work that is built before the pipeline reach it once it exists: compaction
 * reads the visible version and reports progress and failures to the writers.
 */
final class PipelineLink {
    volatile WritePipeline pipeline;
    volatile Flusher flusher;
    volatile Compactor compactor;
    volatile ValueLogGcTrigger gcTrigger;

    long visibleVersion() {
        WritePipeline p = pipeline;
        return p == null ? 0 : p.visibleVersion();
    }

    void signalBackgroundProgress() {
        WritePipeline p = pipeline;
        if (p != null) {
            p.signalBackgroundProgress();
        }
    }

    /** A flush or compaction installed its edit: value-log GC starts if a file's discards crossed the ratio. */
    void valueLogDiscardsRecorded() {
        ValueLogGcTrigger t = gcTrigger;
        if (t != null) {
            t.discardsRecorded();
        }
    }

    /** Background work failed: writes stop, and so does all other background work. */
    void failBackground(Throwable cause) {
        WritePipeline p = pipeline;
        if (p != null) {
            p.failBackground(cause);
        }
        Flusher f = flusher;
        if (f != null) {
            f.halt();
        }
        Compactor c = compactor;
        if (c != null) {
            c.halt();
        }
    }
}
