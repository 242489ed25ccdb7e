package io.trainkv.shell;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/**
 * Says what went wrong in words, for the shell's one-line errors: Java's I/O exceptions carry
 * their meaning in their class name ({@code NoSuchFileException: notes.txt}), which a shell user
 * should not have to decode, and engine messages embed them as text.
 */
final class ErrorWords {

    private ErrorWords() {
    }

    /** Why {@code e} happened, without the file it names: "no such file or directory", "permission denied", ... */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof DirectoryNotEmptyException) {
            return "directory not empty";
        }
        if (e instanceof CharacterCodingException) {
            return "not UTF-8 text";
        }
        String text = e instanceof FileSystemException fs && fs.getReason() != null ? fs.getReason() : e.getMessage();
        if (text == null || text.isBlank()) {
            return "input/output error";
        }
        return text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1);
    }

    /**
     * The message of {@code e} with any I/O exception it quotes (as {@code java.nio.file.X: path})
     * replaced by its {@link #reason} and the file it names; never a class name.
     */
    static String of(Throwable e) {
        IOException io = null;
        for (Throwable t = e; t != null && io == null; t = t.getCause()) {
            if (t instanceof IOException found) {
                io = found;
            }
        }
        String message = e.getMessage();
        if (io == null) {
            return message != null ? message : "unexpected internal error (run with --debug for details)";
        }
        String words = reason(io);
        if (io instanceof FileSystemException fs && fs.getFile() != null) {
            words += ": " + fs.getFile();
        }
        if (message == null || message.equals(io.getMessage())) {
            return words;
        }
        return message.replace(io.toString(), words);
    }
}
