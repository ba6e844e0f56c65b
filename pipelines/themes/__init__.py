"""Theme files 一企一档 and 一人一档, assembled from validated tables under 一数一源."""
